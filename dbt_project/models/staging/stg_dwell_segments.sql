with

source as (

    select * from {{ lake_source('dwell_paths') }}

),

renamed as (

    select
        event_id as dwell_segment_id,
        visit_id,
        store_id,
        shopper_id,
        zone_id,
        entered_at,
        exited_at,
        dwell_s,
        stopped as is_stop,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by dwell_segment_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
