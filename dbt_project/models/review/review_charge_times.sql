{#- How long receipts took from the exit to their final charge, per store and day. The checkout charges at
    the exit (a receipt's time is the visit's exit), so a receipt's final charge is its own time unless a
    decision changed it later. Counts only: no receipt is named. #}
with

purchases as (

    select * from {{ ref('stg_purchases') }}

),

adjustments as (

    select * from {{ ref('stg_receipt_adjustments') }}

),

final_charges as (


    select
        purchases.store_id,
        cast(purchases.purchased_at as date) as charged_date,
        date_diff('second', purchases.purchased_at, coalesce(max(adjustments.decided_at), purchases.purchased_at))
            / 60.0 as minutes_to_final_charge,

    from purchases
    left join adjustments
        on purchases.visit_id = adjustments.visit_id and adjustments.kind <> 'confirm'
    group by purchases.store_id, purchases.purchase_id, purchases.purchased_at

),

charge_times as (

    select
        store_id,
        charged_date,
        count(*) as receipts,
        count(*) filter (where minutes_to_final_charge > 0) as receipts_changed_later,
        median(minutes_to_final_charge) filter (where minutes_to_final_charge > 0)
            as median_minutes_to_changed_charge,
        quantile_cont(minutes_to_final_charge, 0.9) as p90_minutes_to_final_charge,
        max(minutes_to_final_charge) as max_minutes_to_final_charge,

    from final_charges
    group by store_id, charged_date

)

select * from charge_times
