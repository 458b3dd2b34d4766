with

source as (

    select * from {{ lake_source('shelf_events') }}

),

renamed as (

    select
        event_id as shelf_event_id,
        store_id,
        shelf_id,
        plate_id,
        product_id,
        action,
        cast(quantity as integer) as quantity,
        weight_delta_g,
        confidence,
        ts as detected_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by shelf_event_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
