with

stores as (

    select * from {{ ref('stg_stores') }}

),

zones as (

    select * from {{ ref('stg_zones') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

gates as (

    select * from {{ ref('stg_gates') }}

),

ad_screens as (

    select * from {{ ref('stg_ad_screens') }}

),

zone_counts as (

    select store_id, count(*) as zones from zones group by store_id

),

assortment as (

    select
        store_id,
        count(*) as products,
        cast(sum(plates) as bigint) as plates,
        cast(sum(capacity_units) as bigint) as capacity_units,

    from placements
    group by store_id

),

gate_counts as (

    select store_id, count(*) as gates from gates group by store_id

),

screen_counts as (

    select store_id, count(*) as ad_screens from ad_screens group by store_id

),

final as (

    select
        stores.store_id,
        stores.store_name,
        stores.city,
        stores.district,
        stores.timezone,
        stores.open_hour,
        stores.close_hour,
        stores.restricted_from_hour,
        stores.restricted_until_hour,
        stores.width_m,
        stores.depth_m,
        stores.area_m2,
        stores.is_mirrored,
        stores.categories,
        coalesce(zone_counts.zones, 0) as zones,
        coalesce(gate_counts.gates, 0) as gates,
        coalesce(screen_counts.ad_screens, 0) as ad_screens,
        coalesce(assortment.products, 0) as products,
        coalesce(assortment.plates, 0) as plates,
        coalesce(assortment.capacity_units, 0) as capacity_units,

    from stores
    left join zone_counts on stores.store_id = zone_counts.store_id
    left join gate_counts on stores.store_id = gate_counts.store_id
    left join screen_counts on stores.store_id = screen_counts.store_id
    left join assortment on stores.store_id = assortment.store_id

)

select * from final
