{#- Every age band x gender x category cell of each store, before k-anonymity suppression
    (demographic_heatmap suppresses). Demographics are the paying member's: declared, else estimated
    by the entrance camera (int_shopper_profiles). #}
with

visits as (

    select * from {{ ref('int_visits') }}

),

zone_visits as (

    select * from {{ ref('int_zone_visits') }}

),

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

profiles as (

    select * from {{ ref('int_shopper_profiles') }}

),

zones as (

    select * from {{ ref('stg_zones') }}

),

zone_categories as (

    select
        zone_id,
        unnest(categories) as category,

    from zones

),

store_shoppers as (

    select distinct
        visits.store_id,
        visits.shopper_id,
        profiles.age_band,
        profiles.gender,

    from visits
    inner join profiles on visits.shopper_id = profiles.shopper_id

),

category_visitors as (

    select distinct
        zone_visits.store_id,
        zone_visits.shopper_id,
        zone_categories.category,
        zone_visits.zone_id,

    from zone_visits
    inner join zone_categories on zone_visits.zone_id = zone_categories.zone_id

),

category_buyers as (

    select
        store_id,
        shopper_id,
        category,
        cast(sum(amount_krw) as bigint) as revenue_krw,

    from purchase_lines
    group by store_id, shopper_id, category

),

shopper_categories as (

    select
        coalesce(category_visitors.store_id, category_buyers.store_id) as store_id,
        coalesce(category_visitors.shopper_id, category_buyers.shopper_id) as shopper_id,
        coalesce(category_visitors.category, category_buyers.category) as category,
        category_visitors.shopper_id is not null as visited,
        category_buyers.shopper_id is not null as bought,
        coalesce(category_buyers.revenue_krw, 0) as revenue_krw,

    from category_visitors
    full outer join category_buyers
        on category_visitors.store_id = category_buyers.store_id
        and category_visitors.shopper_id = category_buyers.shopper_id
        and category_visitors.category = category_buyers.category

),

group_sizes as (

    select
        store_id,
        age_band,
        gender,
        count(*) as group_shoppers,
        sum(count(*)) over (partition by store_id) as store_shoppers,

    from store_shoppers
    group by store_id, age_band, gender

),

cells as (

    select
        shopper_categories.store_id,
        store_shoppers.age_band,
        store_shoppers.gender,
        shopper_categories.category,
        count(*) as cell_shoppers,
        count(*) filter (where shopper_categories.visited) as visitors,
        count(*) filter (where shopper_categories.bought) as buyers,
        cast(sum(shopper_categories.revenue_krw) as bigint) as revenue_krw,

    from shopper_categories
    inner join store_shoppers
        on shopper_categories.store_id = store_shoppers.store_id
        and shopper_categories.shopper_id = store_shoppers.shopper_id
    group by all

),

category_zones as (

    select distinct
        zones.store_id,
        zone_categories.category,
        zones.zone_id,

    from zone_categories
    inner join zones on zone_categories.zone_id = zones.zone_id

),

final as (

    select
        cells.store_id,
        cells.age_band,
        cells.gender,
        cells.category,
        category_zones.zone_id,
        group_sizes.group_shoppers,
        cells.cell_shoppers,
        cells.visitors,
        cells.buyers,
        cells.revenue_krw,
        cells.visitors / nullif(sum(cells.visitors) over store_category, 0) as visitor_share,
        cells.revenue_krw / nullif(sum(cells.revenue_krw) over store_category, 0) as revenue_share,
        cells.buyers / group_sizes.group_shoppers as penetration,
        100 * (cells.buyers / group_sizes.group_shoppers)
            / nullif(sum(cells.buyers) over store_category / group_sizes.store_shoppers, 0) as penetration_index,

    from cells
    inner join group_sizes
        on cells.store_id = group_sizes.store_id
        and cells.age_band = group_sizes.age_band
        and cells.gender = group_sizes.gender
    left join category_zones
        on cells.store_id = category_zones.store_id
        and cells.category = category_zones.category
    window store_category as (partition by cells.store_id, cells.category)

)

select * from final
