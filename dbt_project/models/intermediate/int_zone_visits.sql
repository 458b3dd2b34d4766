{#- Each visit's time in each zone, and what it bought there (products placed in the zone). #}
with

segments as (

    select * from {{ ref('fct_dwell_segments') }}

),

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

zone_stays as (

    select
        store_id,
        zone_id,
        visit_id,
        min(shopper_id) as shopper_id,
        min(entered_at) as first_entered_at,
        count(*) as segments,
        count(*) filter (where is_stop) as stops,
        sum(dwell_s) as dwell_s,
        coalesce(sum(dwell_s) filter (where is_stop), 0) as stop_dwell_s,

    from segments
    group by store_id, zone_id, visit_id

),

zone_purchases as (

    select
        purchase_lines.visit_id,
        placements.zone_id,
        cast(sum(purchase_lines.quantity) as bigint) as units_bought,
        cast(sum(purchase_lines.amount_krw) as bigint) as revenue_krw,

    from purchase_lines
    inner join placements
        on purchase_lines.store_id = placements.store_id
        and purchase_lines.product_id = placements.product_id
    group by purchase_lines.visit_id, placements.zone_id

),

final as (

    select
        zone_stays.store_id,
        zone_stays.zone_id,
        zone_stays.visit_id,
        zone_stays.shopper_id,
        zone_stays.first_entered_at,
        cast(timezone(stores.timezone, zone_stays.first_entered_at) as date) as local_date,
        hour(timezone(stores.timezone, zone_stays.first_entered_at)) as local_hour,
        zone_stays.segments,
        zone_stays.stops,
        zone_stays.dwell_s,
        zone_stays.stop_dwell_s,
        zone_stays.stops = 0 as is_pass_through,
        coalesce(zone_purchases.units_bought, 0) as units_bought,
        coalesce(zone_purchases.revenue_krw, 0) as revenue_krw,

    from zone_stays
    inner join stores on zone_stays.store_id = stores.store_id
    left join zone_purchases
        on zone_stays.visit_id = zone_purchases.visit_id
        and zone_stays.zone_id = zone_purchases.zone_id

)

select * from final
