with

source as (

    select * from {{ lake_source('alerts') }}

),

renamed as (

    select
        event_id as alert_id,
        kind,
        severity,
        store_id,
        zone_id,
        x_m,
        y_m,
        gate_id,
        track_ids,
        visit_id,
        evidence,
        items,
        value_krw,
        ts as raised_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    -- raised again (the same act: kind, store and evidence): the first landing counts
    qualify row_number() over (partition by alert_id order by raised_at, landed_at) = 1

)

select * from deduplicated
