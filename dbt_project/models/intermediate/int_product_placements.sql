with

plates as (

    select * from {{ ref('stg_plates') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

placements as (

    select
        plates.store_id,
        plates.product_id,
        min(plates.zone_id) as zone_id,
        min(products.category) as category,
        count(*) as plates,
        cast(sum(plates.capacity_units) as bigint) as capacity_units,

    from plates
    inner join products on plates.product_id = products.product_id
    group by plates.store_id, plates.product_id

)

select * from placements
