{#- Loss-prevention alerts per store x local day x kind: how many, how many of high severity, and the value
    of the goods at stake. Counts only: the individual alerts stay with the operators. #}
with

alerts as (

    select * from {{ ref('stg_alerts') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

dated as (

    select
        alerts.store_id,
        cast(timezone(stores.timezone, alerts.raised_at) as date) as local_date,
        alerts.kind,
        alerts.severity,
        alerts.value_krw,

    from alerts
    inner join stores on alerts.store_id = stores.store_id

),

final as (

    select
        store_id,
        local_date as alert_date,
        kind,
        count(*) as alerts,
        count(*) filter (where severity = 'high') as high_severity_alerts,
        cast(sum(value_krw) as bigint) as value_at_stake_krw,

    from dated
    group by store_id, local_date, kind

)

select * from final
