// See psql_reference.h. Mirrors src/bin/psql/mainloop.c: a line at a time (split at \n, empty
// lines outside literals skipped), a \n between lines once the buffer holds something, a statement
// sent at every PSCAN_SEMICOLON and what is left at the end of the input.
#include "postgres_fe.h"

#include "fe_utils/psqlscan.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"
#include "psql_reference.h"

static const PsqlScanCallbacks kNoVariables = {NULL};

int psql_reference_split(const char* text, size_t length, psql_reference_emit emit, void* context) {
  PsqlScanState scan = psql_scan_create(&kNoVariables);
  PQExpBuffer query = createPQExpBuffer();
  char* line = malloc(length + 1);
  const char* cursor = text;
  const char* end = text + length;
  int stopped_at_backslash = 0;
  while (cursor < end && !stopped_at_backslash) {
    const char* newline = memchr(cursor, '\n', (size_t)(end - cursor));
    const size_t line_length = newline ? (size_t)(newline - cursor) : (size_t)(end - cursor);
    memcpy(line, cursor, line_length);
    line[line_length] = '\0';
    cursor = newline ? newline + 1 : end;
    if (line_length == 0 && !psql_scan_in_quote(scan)) continue;
    if (query->len > 0) appendPQExpBufferChar(query, '\n');
    psql_scan_setup(scan, line, (int)line_length, PG_UTF8, true);
    for (;;) {
      promptStatus_t prompt = PROMPT_READY;
      PsqlScanResult result = psql_scan(scan, query, &prompt);
      if (result == PSCAN_SEMICOLON) {
        emit(query->data, query->len, context);
        resetPQExpBuffer(query);
        continue;
      }
      if (result == PSCAN_BACKSLASH) stopped_at_backslash = 1;
      break;
    }
    psql_scan_finish(scan);
  }
  if (!stopped_at_backslash && query->len > 0) emit(query->data, query->len, context);
  free(line);
  destroyPQExpBuffer(query);
  psql_scan_destroy(scan);
  return stopped_at_backslash;
}
