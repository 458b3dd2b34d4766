{#- What an operator reads to decide a case, one row per contested take (no frame is ever stored): for a
    flagged or disputed receipt, every take charged to its visit and every take of another visit it was weighed for;
    for a take charged to nobody, the take itself. With the plate's reading (the weight change against
    what the units should weigh) and whom the checkout weighed, how likely each was and how they stood. #}
with

cases as (

    select * from {{ ref('review_cases') }}

),

attributions as (

    select * from {{ ref('stg_attributions') }}

),

shelf_events as (

    select * from {{ ref('stg_shelf_events') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

weighed_for as (  -- the visits each take was weighed for, the one charged among them

    select distinct
        attribution_id,
        candidate.visit_id,

    from attributions, unnest(attributions.candidates) as weighed(candidate)
    where candidate.visit_id is not null

),

receipt_takes as (

    select
        cases.case_id,
        attributions.shelf_event_id,
        attributions.visit_id as charged_visit_id,
        attributions.visit_id = cases.visit_id as charged_to_case,
        attributions.product_id,
        attributions.action,
        attributions.quantity,
        attributions.confidence,
        attributions.candidates,
        attributions.swaps_undone,

    from cases
    inner join attributions
        on cases.store_id = attributions.store_id
        and (
            attributions.visit_id = cases.visit_id
            or exists (
                select 1 from weighed_for
                where weighed_for.attribution_id = attributions.attribution_id
                    and weighed_for.visit_id = cases.visit_id
            )
        )
    where cases.kind in ('flagged', 'disputed')

),

unattributed_takes as (

    select
        cases.case_id,
        split_part(cases.case_id, ':', 2) as shelf_event_id,
        cast(null as varchar) as charged_visit_id,
        false as charged_to_case,
        cases.product_id,
        'pick' as action,
        cases.quantity,
        cast(null as double) as confidence,
        [] as candidates,
        0 as swaps_undone,

    from cases
    where cases.kind = 'unattributed'

),

takes as (

    select * from receipt_takes
    union all by name
    select * from unattributed_takes

),

final as (

    select
        takes.case_id,
        takes.shelf_event_id,
        shelf_events.store_id,
        shelf_events.plate_id,
        takes.product_id,
        products.product_name,
        takes.action,
        takes.quantity,
        shelf_events.detected_at,
        shelf_events.weight_delta_g,
        products.unit_weight_g * takes.quantity as expected_weight_g,
        shelf_events.confidence as plate_confidence,
        takes.charged_visit_id,
        takes.charged_to_case,
        takes.confidence,
        takes.candidates,
        takes.swaps_undone,

    from takes
    inner join shelf_events on takes.shelf_event_id = shelf_events.shelf_event_id
    left join products on takes.product_id = products.product_id

)

select * from final
