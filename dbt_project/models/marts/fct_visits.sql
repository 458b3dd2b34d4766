with

visits as (

    select * from {{ ref('int_visits') }}

),

purchases as (

    select * from {{ ref('stg_purchases') }}

),

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

adjustments as (

    select * from {{ ref('stg_receipt_adjustments') }}

),

zone_visits as (

    select * from {{ ref('int_zone_visits') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

receipt_lines as (

    select
        visit_id,
        count(*) as lines,
        cast(sum(quantity) as bigint) as units,
        cast(sum(amount_krw) as bigint) as lines_amount_krw,

    from purchase_lines
    group by visit_id

),

visit_adjustments as (

    select
        visit_id,
        cast(sum(amount_delta_krw) as bigint) as adjustments_krw,

    from adjustments
    group by visit_id

),

zone_totals as (

    select
        visit_id,
        count(*) as zones_visited,
        cast(sum(stops) as bigint) as stops,

    from zone_visits
    group by visit_id

),

final as (

    select
        visits.visit_id,
        visits.store_id,
        visits.shopper_id,
        visits.group_size,
        len(visits.track_ids) as tracks,
        visits.entered_at,
        visits.exited_at,
        visits.is_closed,
        cast(timezone(stores.timezone, visits.entered_at) as date) as local_date,
        hour(timezone(stores.timezone, visits.entered_at)) as local_hour,
        epoch(visits.exited_at) - epoch(visits.entered_at) as duration_s,
        coalesce(zone_totals.zones_visited, 0) as zones_visited,
        coalesce(zone_totals.stops, 0) as stops,
        purchases.purchase_id,
        purchases.purchase_id is not null as has_purchase,
        coalesce(purchases.total_krw, 0) as receipt_total_krw,
        coalesce(visit_adjustments.adjustments_krw, 0) as adjustments_krw,
        coalesce(purchases.total_krw, 0) + coalesce(visit_adjustments.adjustments_krw, 0) as net_total_krw,
        coalesce(receipt_lines.lines_amount_krw, 0) as lines_amount_krw,
        coalesce(receipt_lines.lines, 0) as lines,
        coalesce(receipt_lines.units, 0) as units,
        purchases.confidence as receipt_confidence,
        coalesce(purchases.needs_review, false) as needs_review,
        purchases.review_reasons,
        purchases.calibration_version,

    from visits
    inner join stores on visits.store_id = stores.store_id
    left join purchases on visits.visit_id = purchases.visit_id
    left join receipt_lines on visits.visit_id = receipt_lines.visit_id
    left join visit_adjustments on visits.visit_id = visit_adjustments.visit_id
    left join zone_totals on visits.visit_id = zone_totals.visit_id

)

select * from final
