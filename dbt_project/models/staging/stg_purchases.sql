with

source as (

    select * from {{ lake_source('purchases') }}

),

renamed as (

    select
        event_id as purchase_id,
        visit_id,
        store_id,
        shopper_id,
        cast(group_size as integer) as group_size,
        lines,
        total_krw,
        confidence,
        needs_review,
        review_reasons,
        calibration_version,
        ts as purchased_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by purchase_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
