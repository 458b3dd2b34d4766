{#- Units on each plate after each shelf event: the plate's capacity at the last scheduled delivery,
    minus what its weight sensor saw picked, plus what it saw put back since. A pick of more than the
    count says is there means the count was low (a quantity misread by a unit): the count stops at zero
    and the surplus is kept as overdrawn_units (the running sum reflected at zero). #}
with

shelf_events as (

    select * from {{ ref('stg_shelf_events') }}

),

plates as (

    select * from {{ ref('stg_plates') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

deliveries as (

    select * from {{ ref('int_scheduled_deliveries') }}

),

plate_events as (

    select
        shelf_events.shelf_event_id,
        shelf_events.store_id,
        shelf_events.plate_id,
        plates.product_id,
        products.category,
        plates.capacity_units,
        shelf_events.action,
        case when shelf_events.action = 'pick' then shelf_events.quantity else -shelf_events.quantity end
            as units_taken,
        shelf_events.detected_at,

    from shelf_events
    inner join plates on shelf_events.plate_id = plates.plate_id
    inner join products on plates.product_id = products.product_id

),

restocked as (

    select
        plate_events.*,
        deliveries.delivered_at as restocked_at,

    from plate_events
    asof inner join deliveries
        on plate_events.store_id = deliveries.store_id
        and plate_events.category = deliveries.category
        and plate_events.detected_at >= deliveries.delivered_at

),

running as (

    select
        *,
        capacity_units - cast(sum(units_taken) over plate_window as bigint) as unfloored_after_units,

    from restocked
    window plate_window as (
        partition by plate_id, restocked_at
        order by detected_at, shelf_event_id
        rows between unbounded preceding and current row
    )

),

reflected as (

    select
        *,
        greatest(0, -min(unfloored_after_units) over plate_window) as overdrawn_so_far_units,

    from running
    window plate_window as (
        partition by plate_id, restocked_at
        order by detected_at, shelf_event_id
        rows between unbounded preceding and current row
    )

),

final as (

    select
        shelf_event_id,
        store_id,
        plate_id,
        product_id,
        action,
        units_taken,
        detected_at,
        restocked_at,
        capacity_units,
        unfloored_after_units + overdrawn_so_far_units as on_hand_after_units,
        overdrawn_so_far_units - lag(overdrawn_so_far_units, 1, 0) over (
            partition by plate_id, restocked_at order by detected_at, shelf_event_id
        ) as overdrawn_units,

    from reflected

)

select * from final
