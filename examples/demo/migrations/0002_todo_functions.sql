CREATE FUNCTION todo_finish(todo_id int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE todo SET done = true WHERE id = todo_id; -- semicolons in a function body are fine
END;
$$;
SELECT todo_finish(1);
