CREATE TABLE todo (
  id serial PRIMARY KEY,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false
);
INSERT INTO todo (title) VALUES ('write pginit'), ('replace wait_for_db; migrate; runserver');
