{#- The adjustments' lines, netted onto the day of the charge they correct (the receipt's, else the
    visit's exit): a correction decided days later changes that day's sales, not the day of the decision.
    A table rebuilt whole on every run, as a decision may correct any earlier day. #}
with

adjustments as (

    select * from {{ ref('stg_receipt_adjustments') }}

),

purchases as (

    select * from {{ ref('stg_purchases') }}

),

visits as (

    select * from {{ ref('int_visits') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

flattened as (

    select
        adjustment_id,
        case_id,
        decision,
        kind,
        store_id,
        visit_id,
        purchase_id,
        shopper_id,
        decided_by,
        decided_at,
        lake_date,
        unnest(lines) as line,

    from adjustments

),

dated as (

    select
        flattened.*,
        coalesce(purchases.purchased_at, visits.exited_at, flattened.decided_at) as charged_at,

    from flattened
    left join purchases on flattened.purchase_id = purchases.purchase_id
    left join visits on flattened.visit_id = visits.visit_id

),

final as (

    select
        dated.adjustment_id || ':' || dated.line.product_id as adjustment_line_id,
        dated.adjustment_id,
        dated.case_id,
        dated.decision,
        dated.kind,
        dated.store_id,
        dated.visit_id,
        dated.purchase_id,
        dated.shopper_id,
        dated.line.product_id as product_id,
        products.category,
        cast(dated.line.quantity_delta as integer) as quantity_delta,
        dated.line.unit_price_krw as unit_price_krw,
        dated.line.amount_delta_krw as amount_delta_krw,
        dated.decided_by,
        dated.decided_at,
        dated.charged_at,
        cast(timezone(stores.timezone, dated.charged_at) as date) as local_date,
        dated.lake_date,

    from dated
    left join products on dated.line.product_id = products.product_id
    left join stores on dated.store_id = stores.store_id

)

select * from final
