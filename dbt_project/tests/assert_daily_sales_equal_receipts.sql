{#- Revenue = sum of lines, per store, as charged and net of the operators' corrections: fct_sales_daily
    (zero-filled over the store's products, corrections dated by the charge they correct) keeps every
    charged and every adjusted won of fct_visits; a line of a product the store does not carry, or a
    correction dated outside the store's days, would go missing here.
    It reads two models; Dagster attaches it as a check to the one it guards (meta.dagster.ref). -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_sales_daily'}}}) }}

with

receipts as (

    select
        store_id,
        sum(receipt_total_krw) as receipts_krw,
        sum(net_total_krw) as net_receipts_krw,
    from {{ ref('fct_visits') }}
    group by store_id

),

sales as (

    select
        store_id,
        sum(gross_revenue_krw) as sales_krw,
        sum(net_revenue_krw) as net_sales_krw,
    from {{ ref('fct_sales_daily') }}
    group by store_id

)

select
    coalesce(receipts.store_id, sales.store_id) as store_id,
    receipts.receipts_krw,
    sales.sales_krw,
    receipts.net_receipts_krw,
    sales.net_sales_krw,
from receipts
full outer join sales on receipts.store_id = sales.store_id
where coalesce(receipts.receipts_krw, 0) <> coalesce(sales.sales_krw, 0)
    or coalesce(receipts.net_receipts_krw, 0) <> coalesce(sales.net_sales_krw, 0)
