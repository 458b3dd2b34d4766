{#- Units and revenue per store x product x local date, zero-filled over the products the store
    carries and the dates it had visits or sales: as charged (gross), the operators' corrections netted
    onto the day of the charge they correct, and net. #}
with

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

adjustment_lines as (

    select * from {{ ref('fct_receipt_adjustment_lines') }}

),

visits as (

    select * from {{ ref('fct_visits') }}

),

placements as (

    select * from {{ ref('int_product_placements') }}

),

store_dates as (

    select distinct store_id, local_date from visits
    union
    select distinct store_id, local_date from purchase_lines
    union
    select distinct store_id, local_date from adjustment_lines

),

sales as (

    select
        store_id,
        product_id,
        local_date,
        cast(sum(quantity) as bigint) as units_sold,
        cast(sum(amount_krw) as bigint) as gross_revenue_krw,
        count(distinct purchase_id) as receipts,

    from purchase_lines
    group by store_id, product_id, local_date

),

adjustments as (

    select
        store_id,
        product_id,
        local_date,
        cast(sum(quantity_delta) as bigint) as units_adjusted,
        cast(sum(amount_delta_krw) as bigint) as adjustments_krw,

    from adjustment_lines
    group by store_id, product_id, local_date

),

final as (

    select
        placements.store_id,
        placements.product_id,
        placements.category,
        store_dates.local_date as sales_date,
        coalesce(sales.units_sold, 0) as units_sold,
        coalesce(adjustments.units_adjusted, 0) as units_adjusted,
        coalesce(sales.units_sold, 0) + coalesce(adjustments.units_adjusted, 0) as net_units_sold,
        coalesce(sales.gross_revenue_krw, 0) as gross_revenue_krw,
        coalesce(adjustments.adjustments_krw, 0) as adjustments_krw,
        coalesce(sales.gross_revenue_krw, 0) + coalesce(adjustments.adjustments_krw, 0) as net_revenue_krw,
        coalesce(sales.receipts, 0) as receipts,

    from placements
    inner join store_dates on placements.store_id = store_dates.store_id
    left join sales
        on placements.store_id = sales.store_id
        and placements.product_id = sales.product_id
        and store_dates.local_date = sales.local_date
    left join adjustments
        on placements.store_id = adjustments.store_id
        and placements.product_id = adjustments.product_id
        and store_dates.local_date = adjustments.local_date

)

select * from final
