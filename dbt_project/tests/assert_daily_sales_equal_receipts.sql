{#- Revenue = sum of lines, per store: fct_sales_daily (zero-filled over the store's products) keeps
    every charged won; a line of a product the store does not carry would go missing here.
    It reads two models; Dagster attaches it as a check to the one it guards (meta.dagster.ref). -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_sales_daily'}}}) }}

with

receipts as (

    select store_id, sum(receipt_total_krw) as receipts_krw from {{ ref('fct_visits') }} group by store_id

),

sales as (

    select store_id, sum(revenue_krw) as sales_krw from {{ ref('fct_sales_daily') }} group by store_id

)

select
    receipts.store_id,
    receipts.receipts_krw,
    sales.sales_krw,
from receipts
full outer join sales on receipts.store_id = sales.store_id
where coalesce(receipts.receipts_krw, 0) <> coalesce(sales.sales_krw, 0)
