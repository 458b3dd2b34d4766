{#- Units on the shelves per store x product at the end of each local date, and days of cover.
    On hand is estimated (the lake has no stock counts or deliveries): every scheduled delivery
    (seed delivery_schedule) refills the product's plates to capacity, then the plates' own pick and
    put-back events move it. Days of cover = on hand / average daily units sold over the last 7 days. #}
with

sales as (

    select * from {{ ref('fct_sales_daily') }}

),

plate_stock as (

    select * from {{ ref('int_plate_stock') }}

),

plates as (

    select * from {{ ref('stg_plates') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

deliveries as (

    select * from {{ ref('int_scheduled_deliveries') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

plate_days as (

    select
        plates.store_id,
        plates.plate_id,
        plates.product_id,
        placements.category,
        plates.capacity_units,
        store_dates.sales_date,
        timezone(stores.timezone, store_dates.sales_date + interval 1 day) as day_end,

    from plates
    inner join placements
        on plates.store_id = placements.store_id
        and plates.product_id = placements.product_id
    inner join stores on plates.store_id = stores.store_id
    inner join (select distinct store_id, sales_date from sales) as store_dates
        on plates.store_id = store_dates.store_id

),

restocked as (

    select
        plate_days.*,
        deliveries.delivered_at as restocked_at,

    from plate_days
    asof inner join deliveries
        on plate_days.store_id = deliveries.store_id
        and plate_days.category = deliveries.category
        and plate_days.day_end > deliveries.delivered_at

),

plate_positions as (

    select
        restocked.store_id,
        restocked.product_id,
        restocked.sales_date,
        restocked.restocked_at,
        restocked.capacity_units,
        coalesce(plate_stock.on_hand_after_units, restocked.capacity_units) as on_hand_units,

    from restocked
    asof left join plate_stock
        on restocked.plate_id = plate_stock.plate_id
        and restocked.restocked_at = plate_stock.restocked_at
        and restocked.day_end > plate_stock.detected_at

),

product_positions as (

    select
        store_id,
        product_id,
        sales_date,
        max(restocked_at) as last_restocked_at,
        cast(sum(capacity_units) as bigint) as capacity_units,
        cast(sum(on_hand_units) as bigint) as on_hand_units,

    from plate_positions
    group by store_id, product_id, sales_date

),

with_demand as (

    select
        sales.*,
        avg(sales.units_sold) over (
            partition by sales.store_id, sales.product_id
            order by sales.sales_date
            range between interval 6 days preceding and current row
        ) as avg_daily_units_7d,

    from sales

),

final as (

    select
        with_demand.store_id,
        with_demand.product_id,
        with_demand.category,
        with_demand.sales_date as position_date,
        product_positions.capacity_units,
        product_positions.on_hand_units,
        product_positions.on_hand_units = 0 as is_out_of_stock,
        product_positions.last_restocked_at,
        with_demand.units_sold,
        with_demand.avg_daily_units_7d,
        product_positions.on_hand_units / nullif(with_demand.avg_daily_units_7d, 0) as days_of_cover,

    from with_demand
    inner join product_positions
        on with_demand.store_id = product_positions.store_id
        and with_demand.product_id = product_positions.product_id
        and with_demand.sales_date = product_positions.sales_date

)

select * from final
