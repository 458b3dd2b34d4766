with

zones as (

    select * from {{ ref('stg_zones') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

ad_screens as (

    select * from {{ ref('stg_ad_screens') }}

),

zone_assortment as (

    select
        zone_id,
        count(*) as products,
        cast(sum(plates) as bigint) as plates,
        cast(sum(capacity_units) as bigint) as capacity_units,

    from placements
    group by zone_id

),

zone_screens as (

    select zone_id, count(*) as ad_screens from ad_screens group by zone_id

),

final as (

    select
        zones.zone_id,
        zones.store_id,
        zones.zone_kind,
        zones.categories,
        zones.x0_m,
        zones.y0_m,
        zones.x1_m,
        zones.y1_m,
        zones.area_m2,
        zones.is_restricted,
        coalesce(zone_assortment.products, 0) as products,
        coalesce(zone_assortment.plates, 0) as plates,
        coalesce(zone_assortment.capacity_units, 0) as capacity_units,
        coalesce(zone_screens.ad_screens, 0) as ad_screens,

    from zones
    left join zone_assortment on zones.zone_id = zone_assortment.zone_id
    left join zone_screens on zones.zone_id = zone_screens.zone_id

)

select * from final
