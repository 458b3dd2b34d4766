{#- Per store x advertised product x local date: impressions, the shoppers they reached, and how many
    of them bought the product within ad_attribution_hours, against the store's other shoppers that
    day (lift = exposed conversion / unexposed conversion - 1). Empty until screens report impressions. #}
with

impressions as (

    select * from {{ ref('stg_ad_impressions') }}

),

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

visits as (

    select * from {{ ref('fct_visits') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

dated_impressions as (

    select
        impressions.*,
        cast(timezone(stores.timezone, impressions.shown_at) as date) as local_date,

    from impressions
    inner join stores on impressions.store_id = stores.store_id

),

exposures as (

    select
        store_id,
        product_id,
        local_date,
        unnest(shopper_ids) as shopper_id,
        shown_at,

    from dated_impressions

),

first_exposures as (

    select
        store_id,
        product_id,
        local_date,
        shopper_id,
        min(shown_at) as first_shown_at,

    from exposures
    group by store_id, product_id, local_date, shopper_id

),

exposed_buyers as (

    select distinct
        first_exposures.store_id,
        first_exposures.product_id,
        first_exposures.local_date,
        first_exposures.shopper_id,

    from first_exposures
    inner join purchase_lines
        on first_exposures.store_id = purchase_lines.store_id
        and first_exposures.product_id = purchase_lines.product_id
        and first_exposures.shopper_id = purchase_lines.shopper_id
        and purchase_lines.purchased_at >= first_exposures.first_shown_at
        and purchase_lines.purchased_at
            < first_exposures.first_shown_at + interval {{ var('ad_attribution_hours') }} hour

),

store_day_shoppers as (

    select distinct store_id, local_date, shopper_id from visits

),

store_day_buyers as (

    select distinct store_id, product_id, local_date, shopper_id from purchase_lines

),

advertised as (

    select
        store_id,
        product_id,
        local_date,
        count(*) as impressions,
        count(*) filter (where is_clicked) as clicks,
        count(*) filter (where is_scanned) as scans,

    from dated_impressions
    group by store_id, product_id, local_date

),

reach as (

    select
        advertised.store_id,
        advertised.product_id,
        advertised.local_date,
        count(distinct first_exposures.shopper_id) as exposed_shoppers,
        count(distinct exposed_buyers.shopper_id) as exposed_buyers,

    from advertised
    left join first_exposures
        on advertised.store_id = first_exposures.store_id
        and advertised.product_id = first_exposures.product_id
        and advertised.local_date = first_exposures.local_date
    left join exposed_buyers
        on first_exposures.store_id = exposed_buyers.store_id
        and first_exposures.product_id = exposed_buyers.product_id
        and first_exposures.local_date = exposed_buyers.local_date
        and first_exposures.shopper_id = exposed_buyers.shopper_id
    group by advertised.store_id, advertised.product_id, advertised.local_date

),

unexposed as (

    select
        advertised.store_id,
        advertised.product_id,
        advertised.local_date,
        count(distinct store_day_shoppers.shopper_id) as unexposed_shoppers,
        count(distinct store_day_buyers.shopper_id) as unexposed_buyers,

    from advertised
    inner join store_day_shoppers
        on advertised.store_id = store_day_shoppers.store_id
        and advertised.local_date = store_day_shoppers.local_date
    left join first_exposures
        on advertised.store_id = first_exposures.store_id
        and advertised.product_id = first_exposures.product_id
        and advertised.local_date = first_exposures.local_date
        and store_day_shoppers.shopper_id = first_exposures.shopper_id
    left join store_day_buyers
        on advertised.store_id = store_day_buyers.store_id
        and advertised.product_id = store_day_buyers.product_id
        and advertised.local_date = store_day_buyers.local_date
        and store_day_shoppers.shopper_id = store_day_buyers.shopper_id
    where first_exposures.shopper_id is null
    group by advertised.store_id, advertised.product_id, advertised.local_date

),

final as (

    select
        advertised.store_id,
        advertised.product_id,
        advertised.local_date,
        advertised.impressions,
        advertised.clicks,
        advertised.scans,
        reach.exposed_shoppers,
        reach.exposed_buyers,
        reach.exposed_buyers / nullif(reach.exposed_shoppers, 0) as exposed_conversion,
        coalesce(unexposed.unexposed_shoppers, 0) as unexposed_shoppers,
        coalesce(unexposed.unexposed_buyers, 0) as unexposed_buyers,
        unexposed.unexposed_buyers / nullif(unexposed.unexposed_shoppers, 0) as unexposed_conversion,
        (reach.exposed_buyers / nullif(reach.exposed_shoppers, 0))
            / nullif(unexposed.unexposed_buyers / nullif(unexposed.unexposed_shoppers, 0), 0) - 1 as lift,

    from advertised
    inner join reach
        on advertised.store_id = reach.store_id
        and advertised.product_id = reach.product_id
        and advertised.local_date = reach.local_date
    left join unexposed
        on advertised.store_id = unexposed.store_id
        and advertised.product_id = unexposed.product_id
        and advertised.local_date = unexposed.local_date

)

select * from final
