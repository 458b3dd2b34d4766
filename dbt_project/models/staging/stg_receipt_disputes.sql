with

source as (

    select * from {{ lake_source('receipt_disputes') }}

),

renamed as (

    select
        event_id as dispute_id,
        kind,
        store_id,
        purchase_id,
        visit_id,
        shopper_id,
        product_id,
        cast(quantity as integer) as quantity,
        note,
        ts as filed_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    -- filed again (the same receipt, product and kind): the first filing counts
    qualify row_number() over (partition by dispute_id order by filed_at, landed_at) = 1

)

select * from deduplicated
