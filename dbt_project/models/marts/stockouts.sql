{#- Spells when a plate was empty: from the pick that took its last unit to the put-back or the next
    scheduled delivery that refilled it. #}
with

plate_stock as (

    select * from {{ ref('int_plate_stock') }}

),

deliveries as (

    select * from {{ ref('int_scheduled_deliveries') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

plates as (

    select * from {{ ref('stg_plates') }}

),

transitions as (

    select
        *,
        lag(on_hand_after_units, 1, capacity_units) over plate_window as on_hand_before_units,
        min(detected_at) filter (where on_hand_after_units > 0) over (
            plate_window rows between 1 following and unbounded following
        ) as refilled_by_put_back_at,

    from plate_stock
    window plate_window as (partition by plate_id, restocked_at order by detected_at, shelf_event_id)

),

emptied as (

    select
        transitions.shelf_event_id,
        transitions.store_id,
        transitions.plate_id,
        transitions.product_id,
        products.category,
        transitions.detected_at as stocked_out_at,
        transitions.refilled_by_put_back_at,

    from transitions
    inner join products on transitions.product_id = products.product_id
    where transitions.on_hand_after_units <= 0 and transitions.on_hand_before_units > 0

),

next_delivery as (

    select
        emptied.*,
        deliveries.delivered_at as next_delivery_at,

    from emptied
    asof left join deliveries
        on emptied.store_id = deliveries.store_id
        and emptied.category = deliveries.category
        and emptied.stocked_out_at < deliveries.delivered_at

),

final as (

    select
        next_delivery.shelf_event_id as stockout_id,
        next_delivery.store_id,
        next_delivery.plate_id,
        next_delivery.product_id,
        next_delivery.category,
        plates.zone_id,
        next_delivery.stocked_out_at,
        least(next_delivery.refilled_by_put_back_at, next_delivery.next_delivery_at) as back_in_stock_at,
        case
            when next_delivery.refilled_by_put_back_at
                < coalesce(next_delivery.next_delivery_at, 'infinity'::timestamptz) then 'put_back'
            when next_delivery.next_delivery_at is not null then 'delivery'
        end as back_in_stock_by,
        (
            epoch(least(next_delivery.refilled_by_put_back_at, next_delivery.next_delivery_at))
            - epoch(next_delivery.stocked_out_at)
        ) / 60 as minutes_out_of_stock,

    from next_delivery
    inner join plates on next_delivery.plate_id = plates.plate_id

)

select * from final
