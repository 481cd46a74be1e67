{#- Fails on the rows where a boolean ClickHouse expression does not hold (a mart invariant). -#}
{% test holds_for_every_row(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
