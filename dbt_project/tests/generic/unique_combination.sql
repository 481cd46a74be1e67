{#- Rows whose combination of `columns` occurs more than once (the grain is not unique). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count() as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having occurrences > 1
{% endtest %}
