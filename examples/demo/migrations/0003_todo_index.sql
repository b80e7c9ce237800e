-- pginit:no-transaction
CREATE INDEX CONCURRENTLY todo_open ON todo (id) WHERE NOT done;
CREATE INDEX CONCURRENTLY todo_title ON todo (title);
