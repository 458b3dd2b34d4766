with

source as (

    select * from {{ lake_source('receipt_adjustments') }}

),

renamed as (

    select
        event_id as adjustment_id,
        case_id,
        cast(decision as integer) as decision,
        kind,
        store_id,
        visit_id,
        purchase_id,
        shopper_id,
        lines,
        amount_delta_krw,
        reason,
        decided_by,
        ts as decided_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by adjustment_id order by landed_at) = 1  -- a decision sent twice counts once

)

select * from deduplicated
