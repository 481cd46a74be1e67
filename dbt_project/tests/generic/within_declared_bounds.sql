{#- Metric rows whose value lies outside the bounds their metric declares. -#}
{% test within_declared_bounds(model, column_name, definitions) %}
select m.metric, m.metric_date, m.dimension, m.{{ column_name }} as value, d.min_value, d.max_value
from {{ model }} as m
inner join {{ definitions }} as d on d.metric = m.metric
where
    (d.min_value is not null and m.{{ column_name }} < d.min_value)
    or (d.max_value is not null and m.{{ column_name }} > d.max_value)
{% endtest %}
