with

schedule as (

    select * from {{ ref('delivery_schedule') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

shelf_events as (

    select * from {{ ref('stg_shelf_events') }}

),

active_days as (

    select
        shelf_events.store_id,
        min(cast(timezone(stores.timezone, shelf_events.detected_at) as date)) as first_date,
        max(cast(timezone(stores.timezone, shelf_events.detected_at) as date)) as last_date,

    from shelf_events
    inner join stores on shelf_events.store_id = stores.store_id
    group by shelf_events.store_id

),

{#- The day before the first event too: its deliveries filled the shelves the first events take from. #}
store_days as (

    select
        store_id,
        cast(unnest(generate_series(first_date - 1, last_date + 1, interval 1 day)) as date) as local_date,

    from active_days

),

store_categories as (

    select
        store_id,
        timezone,
        unnest(categories) as category,

    from stores

),

deliveries as (

    select
        store_categories.store_id,
        store_categories.category,
        timezone(
            store_categories.timezone,
            store_days.local_date + to_hours(schedule.hour_local)
        ) as delivered_at,

    from store_days
    inner join store_categories on store_days.store_id = store_categories.store_id
    inner join schedule on schedule.category in (store_categories.category, 'all')

),

final as (

    select distinct
        store_id,
        category,
        delivered_at,

    from deliveries

)

select * from final
