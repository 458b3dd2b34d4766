{#- The charges an operator may change, as they stand: per visit and product, the receipt's units less or
    plus every adjustment decided so far, at the unit price charged. For every visit a case or its
    evidence shows (the case's visit, the visits weighed for its takes, the visits near a pick charged
    to nobody), so a line can be moved to any of them or added to one. #}
with

evidence as (

    select * from {{ ref('review_evidence') }}

),

cases as (

    select * from {{ ref('review_cases') }}

),

tracks as (

    select * from {{ ref('review_tracks') }}

),

visits as (

    select * from {{ ref('int_visits') }}

),

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

adjustment_lines as (

    select * from {{ ref('fct_receipt_adjustment_lines') }}

),

shown as (

    select visit_id from cases where visit_id is not null
    union
    select charged_visit_id from evidence where charged_visit_id is not null
    union
    select candidate.visit_id from evidence, unnest(evidence.candidates) as weighed(candidate)
    where candidate.visit_id is not null
    union
    select visit_id from tracks where visit_id is not null

),

changes as (

    select visit_id, purchase_id, product_id, quantity as units, unit_price_krw, purchased_at as changed_at,
    from purchase_lines
    where visit_id in (select visit_id from shown)
    union all
    select visit_id, purchase_id, product_id, quantity_delta, unit_price_krw, decided_at,
    from adjustment_lines
    where visit_id in (select visit_id from shown)

),

charged as (

    select
        visit_id,
        product_id,
        sum(units) as units,
        arg_min(unit_price_krw, changed_at) as unit_price_krw,  -- the price first charged, as decisions use it

    from changes
    group by visit_id, product_id

),

final as (

    select
        visits.visit_id || ':' || coalesce(charged.product_id, '') as charge_line_id,
        visits.store_id,
        visits.visit_id,
        visits.shopper_id,
        receipts.purchase_id,
        visits.entered_at,
        visits.exited_at,
        charged.product_id,
        cast(charged.units as integer) as units,
        charged.unit_price_krw,

    from visits
    inner join shown on visits.visit_id = shown.visit_id
    left join (
        select distinct visit_id, purchase_id from purchase_lines where purchase_id is not null
    ) as receipts on visits.visit_id = receipts.visit_id
    left join charged on visits.visit_id = charged.visit_id and charged.units <> 0

)

select * from final
