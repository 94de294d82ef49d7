-- A review's row is the head of its decision log: its status may move on, the row may not go.
CREATE TRIGGER reviews_kept BEFORE DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('a review is never deleted');
CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON reviews
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('a review is never deleted');
