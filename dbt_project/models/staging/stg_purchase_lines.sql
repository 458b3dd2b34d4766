with

purchases as (

    select * from {{ ref('stg_purchases') }}

),

flattened as (

    select
        purchase_id,
        visit_id,
        store_id,
        shopper_id,
        purchased_at,
        lake_date,
        unnest(lines) as line,

    from purchases

),

renamed as (

    select
        purchase_id || ':' || line.product_id as purchase_line_id,
        purchase_id,
        visit_id,
        store_id,
        shopper_id,
        line.product_id as product_id,
        cast(line.quantity as integer) as quantity,
        line.unit_price_krw as unit_price_krw,
        line.amount_krw as amount_krw,
        line.confidence as confidence,
        purchased_at,
        lake_date,

    from flattened

)

select * from renamed
