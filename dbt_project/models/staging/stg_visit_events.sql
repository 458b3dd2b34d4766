with

source as (

    select * from {{ lake_source('visits') }}

),

renamed as (

    select
        event_id as visit_event_id,
        visit_id,
        store_id,
        shopper_id,
        status,
        cast(group_size as integer) as group_size,
        track_ids,
        entered_at,
        exited_at,
        age_band,
        gender,
        demographic_source,
        demographic_confidence,
        ts as event_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by visit_event_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
