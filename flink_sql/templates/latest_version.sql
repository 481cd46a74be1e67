-- The latest version of each id in a versioned clean topic: greatest update_time, ties to the
-- later message (later split, i.e. file name or Kafka partition, then the later position in it).
-- Arguments: view, the view to create; source, the clean topic; columns, the columns it keeps.
create temporary view {view} as
select {columns}
from (
    select
        {columns},
        row_number() over (
            partition by id order by update_time desc, source_split desc, message_seq desc
        ) as version_rank
    from {source}
)
where version_rank = 1;
