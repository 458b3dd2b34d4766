{#- How review goes, per store, day the cases arose and cause: cases, decided, how long a decision took,
    how many changed the charge, the money moved and the takes charged to nobody written off as a loss.
    Counts only: no receipt or visit is named. A full table on every run, as a decision may close a case
    of any earlier day. #}
with

cases as (

    select * from {{ ref('review_cases') }}

),

adjustments as (

    select * from {{ ref('stg_receipt_adjustments') }}

),

decisions as (

    select
        case_id,
        min(decided_at) as decided_at,
        bool_or(kind not in ('confirm', 'write_off')) as changed_charge,
        bool_or(kind = 'write_off') as written_off,
        sum(amount_delta_krw) as moved_krw,

    from adjustments
    group by case_id

),

per_case as (

    select
        cases.store_id,
        cast(cases.opened_at as date) as opened_date,
        case
            when cases.kind = 'unattributed' then 'pick charged to nobody'
            else coalesce(cases.review_reasons[1], cases.kind)
        end as cause,
        cases.at_stake_krw,
        decisions.decided_at,
        date_diff('second', cases.opened_at, decisions.decided_at) / 3600.0 as hours_to_decision,
        coalesce(decisions.changed_charge, false) as changed_charge,
        coalesce(decisions.moved_krw, 0) as moved_krw,
        case when decisions.written_off then coalesce(cases.at_stake_krw, 0) else 0 end as written_off_krw,

    from cases
    left join decisions on cases.case_id = decisions.case_id

),

by_cause as (

    select
        store_id,
        opened_date,
        cause,
        count(*) as cases,
        count(decided_at) as decided,
        count(*) - count(decided_at) as still_open,
        median(hours_to_decision) as median_hours_to_decision,
        count(*) filter (where changed_charge) as changed_charge,
        count(*) filter (where changed_charge) / nullif(count(decided_at), 0) as share_changed,
        sum(moved_krw) as net_moved_krw,
        sum(at_stake_krw) as at_stake_krw,
        sum(written_off_krw) as written_off_krw,

    from per_case
    group by store_id, opened_date, cause

)

select * from by_cause
