-- The latest version of every lesson read from stg_lessons; on an incremental run only the
-- lessons changed since the model's newest row. Shared by the incremental models that differ
-- only by their strategy.
{% macro latest_lessons() %}
select lesson_id, classroom_id, attendee_count, updated_at
from {{ ref('stg_lessons') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
order by updated_at desc
limit 1 by lesson_id
{% endmacro %}
