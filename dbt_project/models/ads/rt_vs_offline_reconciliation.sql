-- Real-time vs offline marts, per mart and business day: rows and totals on each side, the
-- difference, and what explains it (events the real-time windows dropped as late). Rejected
-- messages of the mart's source topic are shown for context: neither side counts them.
-- Grain: mart x day. A non-zero `unexplained` means the two paths disagree beyond late data.
{{ config(engine='MergeTree', order_by='(mart, day)') }}

{%- set marts = [
    {'name': 'classroom_performance_1min', 'day': 'toDate(start_time)', 'total': 'sum(event_count)', 'topic': 'timeline_client_topic'},
    {'name': 'av_quality_30s', 'day': 'toDate(start_time)', 'total': 'sum(event_count)', 'topic': 'agora_record'},
    {'name': 'recorded_course_enter_time', 'day': 'toDate(create_time)', 'total': 'count()', 'topic': 'qos_log'},
    {'name': 'registrations_hourly_by_level', 'day': "makeDate(intDiv(reg_hour, 1000000), intDiv(reg_hour, 10000) % 100, intDiv(reg_hour, 100) % 100)", 'total': 'sum(leads)', 'topic': 'uc_account-user'},
    {'name': 'cc_daily_tracking', 'day': 'attribution_date', 'total': 'sum(cc_index)', 'topic': 'data_pack_order_info'},
] %}

with
{%- for mart in marts %}
rt_{{ mart.name }} as (
    select {{ mart.day }} as day, count() as rows, toInt64({{ mart.total }}) as total
    from {{ ref('rt_' ~ mart.name) }}
    group by day
),
ads_{{ mart.name }} as (
    select {{ mart.day }} as day, count() as rows, toInt64({{ mart.total }}) as total
    from {{ ref(mart.name) }}
    group by day
),
{%- endfor %}
late as (
    select mart, toDate({{ epoch_ms_to_business('event_time_ms') }}) as day, count() as late_events
    from {{ source('ods', 'late_events') }}
    group by mart, day
),
rejected as (
    select topic, toDate(processed_at, '{{ business_tz() }}') as day, count() as rejected_messages
    from {{ source('ods', 'rejected_messages') }}
    group by topic, day
),
sides as (
{%- for mart in marts %}
    select
        '{{ mart.name }}' as mart,
        '{{ mart.topic }}' as source_topic,
        if(r.day = toDate(0), a.day, r.day) as day,
        r.rows as rt_rows,
        a.rows as ads_rows,
        r.total as rt_total,
        a.total as ads_total
    from rt_{{ mart.name }} as r
    full outer join ads_{{ mart.name }} as a on a.day = r.day
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
)

select
    cast(s.mart as LowCardinality(String)) as mart,
    s.day as day,
    s.rt_rows as rt_rows,
    s.ads_rows as ads_rows,
    s.rt_total as rt_total,
    s.ads_total as ads_total,
    s.ads_total - s.rt_total as total_difference,
    toInt64(l.late_events) as late_events,
    s.ads_total - s.rt_total - toInt64(l.late_events) as unexplained,
    toInt64(j.rejected_messages) as rejected_source_messages,
    cast(if(s.ads_total - s.rt_total - toInt64(l.late_events) = 0, 'ok', 'mismatch') as LowCardinality(String)) as status
from sides as s
left join late as l on l.mart = s.mart and l.day = s.day
left join rejected as j on j.topic = s.source_topic and j.day = s.day
