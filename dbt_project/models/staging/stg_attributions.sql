with

source as (

    select * from {{ lake_source('attributions') }}

),

renamed as (

    select
        event_id as attribution_id,
        shelf_event_id,
        store_id,
        visit_id,
        shopper_id,
        plate_id,
        action,
        product_id,
        cast(quantity as integer) as quantity,
        confidence,
        coalesce(candidates, []) as candidates,  -- landed before the checkout published them: none
        coalesce(swaps_undone, 0) as swaps_undone,
        ts as detected_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by attribution_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
