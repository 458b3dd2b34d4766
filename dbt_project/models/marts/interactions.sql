{#- Implicit feedback per shopper x product for the recommender: units bought, products picked and put
    back (as the checkout attributed them: the same answer the receipts charge), and minutes stopped in
    the product's zone, combined with the interaction_weights var. A pair appears once the shopper bought
    or put back. #}
with

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

attributions as (

    select * from {{ ref('stg_attributions') }}

),

zone_visits as (

    select * from {{ ref('int_zone_visits') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

bought as (

    select
        shopper_id,
        product_id,
        cast(sum(quantity) as bigint) as units_bought,
        count(distinct visit_id) as visits_bought,
        max(purchased_at) as last_bought_at,

    from purchase_lines
    group by shopper_id, product_id

),

put_back as (

    select
        shopper_id,
        product_id,
        count(*) as put_backs,
        max(detected_at) as last_put_back_at,

    from attributions
    where action = 'put_back'
    group by shopper_id, product_id

),

pairs as (

    select
        coalesce(bought.shopper_id, put_back.shopper_id) as shopper_id,
        coalesce(bought.product_id, put_back.product_id) as product_id,
        coalesce(bought.units_bought, 0) as units_bought,
        coalesce(bought.visits_bought, 0) as visits_bought,
        coalesce(put_back.put_backs, 0) as put_backs,
        greatest(bought.last_bought_at, put_back.last_put_back_at) as last_interaction_at,

    from bought
    full outer join put_back
        on bought.shopper_id = put_back.shopper_id
        and bought.product_id = put_back.product_id

),

zone_stops as (

    select
        zone_visits.shopper_id,
        placements.product_id,
        sum(zone_visits.stop_dwell_s) / 60 as zone_stop_minutes,

    from zone_visits
    inner join placements
        on zone_visits.store_id = placements.store_id
        and zone_visits.zone_id = placements.zone_id
    inner join pairs
        on zone_visits.shopper_id = pairs.shopper_id
        and placements.product_id = pairs.product_id
    group by zone_visits.shopper_id, placements.product_id

),

final as (

    select
        pairs.shopper_id,
        pairs.product_id,
        pairs.units_bought,
        pairs.visits_bought,
        pairs.put_backs,
        coalesce(zone_stops.zone_stop_minutes, 0) as zone_stop_minutes,
        {{ var('interaction_weights')['purchased_unit'] }} * pairs.units_bought
            + {{ var('interaction_weights')['put_back'] }} * pairs.put_backs
            + {{ var('interaction_weights')['zone_stop_minute'] }} * coalesce(zone_stops.zone_stop_minutes, 0)
            as weight,
        pairs.last_interaction_at,

    from pairs
    left join zone_stops
        on pairs.shopper_id = zone_stops.shopper_id
        and pairs.product_id = zone_stops.product_id

)

select * from final
