with

products as (

    select * from {{ ref('stg_products') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

reach as (

    select
        product_id,
        count(*) as stores,
        cast(sum(plates) as bigint) as plates,

    from placements
    group by product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.brand,
        products.category,
        products.price_krw,
        products.unit_weight_g,
        products.margin,
        products.is_age_restricted,
        products.shelf_life_days,
        products.supplier_id,
        products.lead_time_days,
        coalesce(reach.stores, 0) as stores,
        coalesce(reach.plates, 0) as plates,

    from products
    left join reach on products.product_id = reach.product_id

)

select * from final
