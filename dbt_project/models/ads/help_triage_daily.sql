-- Help triage per business day, source and category: counts of ads.help_request_triage.
-- Grain: day x source x category. Rule: LIVE_CLASSROOM_CONTRACT.md A.5 (auto_share and
-- resolved_share = auto or resolved / (requests - merged)).
{{ config(order_by='(day, source, category)') }}

select
    toDate(fromUnixTimestamp64Milli(request_time, '{{ business_tz() }}')) as day,
    source,
    category,
    count() as requests,
    countIf(outcome = 'auto') as auto,
    countIf(verify_status = 'resolved') as resolved,
    countIf(verify_status = 'escalated') as escalated,
    countIf(outcome = 'manual') as manual,
    countIf(outcome = 'merged') as merged,
    sum(handle_ms) as handle_ms_sum
from {{ ref('help_request_triage') }}
group by day, source, category
