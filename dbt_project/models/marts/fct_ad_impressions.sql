{#- One row per ad shown on an in-store screen, with the store's local date and hour (the Ads page
    groups them by screen and segment). #}
with

impressions as (

    select * from {{ ref('stg_ad_impressions') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

final as (

    select
        impressions.impression_id,
        impressions.store_id,
        impressions.screen_id,
        impressions.zone_id,
        impressions.product_id,
        impressions.creative_id,
        impressions.reason,
        impressions.segment,
        len(impressions.shopper_ids) as shoppers_in_front,
        impressions.model_version,
        impressions.is_clicked,
        impressions.is_scanned,
        impressions.shown_at,
        cast(timezone(stores.timezone, impressions.shown_at) as date) as local_date,
        hour(timezone(stores.timezone, impressions.shown_at)) as local_hour,

    from impressions
    inner join stores on impressions.store_id = stores.store_id

)

select * from final
