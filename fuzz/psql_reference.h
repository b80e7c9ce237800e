// psql's own statement splitting, for the differential fuzz target: psqlscan.l (generated with
// Debian's flex from the PostgreSQL source package) driven line by line as psql's MainLoop does.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*psql_reference_emit)(const char* statement, size_t length, void* context);

/// Calls `emit` with every statement psql would send for `text` (non-interactive, no variables,
/// standard_conforming_strings on, UTF8), including its terminating ';'. Returns 1 when psql would
/// stop at a backslash (meta-)command, else 0. `text` must not contain NUL bytes.
int psql_reference_split(const char* text, size_t length, psql_reference_emit emit, void* context);

#ifdef __cplusplus
}
#endif
