{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='lake_date',
        tags=['daily'],
    )
}}

with

purchase_lines as (

    select * from {{ ref('stg_purchase_lines') }}
    where {{ in_partition_window() }}

),

purchases as (

    select * from {{ ref('stg_purchases') }}
    where {{ in_partition_window() }}

),

products as (

    select * from {{ ref('stg_products') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

final as (

    select
        purchase_lines.purchase_line_id,
        purchase_lines.purchase_id,
        purchase_lines.visit_id,
        purchase_lines.store_id,
        purchase_lines.shopper_id,
        purchase_lines.product_id,
        products.category,
        purchase_lines.quantity,
        purchase_lines.unit_price_krw,
        purchase_lines.amount_krw,
        purchase_lines.confidence as line_confidence,
        purchases.needs_review,
        purchase_lines.purchased_at,
        cast(timezone(stores.timezone, purchase_lines.purchased_at) as date) as local_date,
        hour(timezone(stores.timezone, purchase_lines.purchased_at)) as local_hour,
        purchase_lines.lake_date,

    from purchase_lines
    inner join purchases on purchase_lines.purchase_id = purchases.purchase_id
    left join products on purchase_lines.product_id = products.product_id
    left join stores on purchase_lines.store_id = stores.store_id

)

select * from final
