-- Publish a run: a single one-row insert, so a reader sees all of the run or none of it.
-- Withheld lessons (their latest check found errors) keep showing their previous run.
insert into dim.preheat_publications (run_id, withheld_lessons, published_at)
select {run_id:UInt64}, {withheld:Array(UInt64)}, now64(3)
