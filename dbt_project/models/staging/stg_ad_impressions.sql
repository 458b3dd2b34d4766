with

source as (

    select * from {{ lake_source('ad_impressions') }}

),

renamed as (

    select
        event_id as impression_id,
        store_id,
        screen_id,
        zone_id,
        product_id,
        creative_id,
        reason,
        shopper_ids,
        segment,
        model_version,
        clicked as is_clicked,
        scanned as is_scanned,
        ts as shown_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by impression_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
