#pragma once
// What a migrations directory is read into, whatever tool wrote it (pure data).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pginit {

/// A file of the migrations directory, read: its path relative to the directory ("0001_a.sql",
/// "20230518_init/migration.sql", "sub/V2__x.sql") and its bytes.
struct SourceFile {
  std::string path;
  std::string content;
};

/// How a migration's text becomes the statements pginit sends.
enum class Splitting {
  kPsql,      ///< cut where psql cuts (pginit's own files; Flyway's lexer cuts at the same places)
  kSections,  ///< each of `sections` as one simple-protocol query, as the tool sends it (golang-migrate's
              ///< whole file, a dbmate up section, a goose statement or StatementBegin block, Prisma's script)
};

/// One migration, in the order it is applied.
struct MigrationFile {
  std::string id;            ///< its key in the history ("42", "0042", a Flyway version's canonical "1.2", a name)
  std::string written_as;    ///< the version as the tool writes it in its history, where it differs from `id`
                             ///< (Flyway's V001__ is written "001", compared as 1)
  std::int64_t version = 0;  ///< numeric formats' version (pginit's own history, log fields); 0 otherwise
  std::string name;          ///< what it is called beside its id (a description)
  std::string filename;      ///< its path in the directory
  std::string content;       ///< the SQL pginit runs: up sections only, placeholders replaced
  std::string checksum;      ///< as the tool computes it; empty where the tool keeps none
  bool no_transaction = false;
  bool repeatable = false;  ///< Flyway R__: applied after the versioned ones, again whenever its checksum changes
  Splitting splitting = Splitting::kPsql;
  std::vector<std::pair<std::size_t, std::size_t>> sections;  ///< kSections: [begin, end) ranges of `content`
};

/// A migration the history table says is applied.
struct AppliedMigration {
  std::string id;
  std::string name;
  std::string checksum;
};

}  // namespace pginit
