{#- The operators' review cases, one row each: a receipt the checkout flagged, a take charged to nobody
    (a pick the checkout dead-lettered as unattributable), and a receipt line a shopper disputes. A case
    is decided once any receipt adjustment names it; the queue is the open ones. A full table on every
    run, as a decision may close a case of any earlier day. #}
with

purchases as (

    select * from {{ ref('stg_purchases') }}

),

deadletters as (

    select * from {{ ref('stg_deadletters') }}

),

adjustments as (

    select * from {{ ref('stg_receipt_adjustments') }}

),

disputes as (

    select * from {{ ref('stg_receipt_disputes') }}

),

purchase_lines as (

    select * from {{ ref('stg_purchase_lines') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

shelf_events as (

    select * from {{ ref('stg_shelf_events') }}

),

flagged as (

    select
        'receipt:' || purchase_id as case_id,
        'flagged' as kind,
        store_id,
        visit_id,
        purchase_id,
        cast(null as varchar) as product_id,
        cast(null as integer) as quantity,
        total_krw as at_stake_krw,
        purchased_at as opened_at,
        review_reasons,

    from purchases
    where needs_review

),

{#- A take charged to nobody is a dead letter whose kept bytes are the shelf event; only its id is read
    from them, and only where they read as JSON: what was taken comes from the landed shelf event. Anyone
    who can write the dead-letter topic can forge its bytes, and bytes that are not a landed shelf event
    name no case (nor stop the build). #}
rejected_takes as (

    select
        try(json_extract_string(try(decode(try(from_base64(original_b64)))), '$.event_id')) as shelf_event_id,
        deadletter_id,
        rejected_at,
        reason,

    from deadletters
    where source_topic = 'shelf.events' and starts_with(reason, 'unattributable')

),

takes as (

    select
        shelf_events.shelf_event_id,
        shelf_events.store_id,
        shelf_events.product_id,
        shelf_events.quantity,
        rejected_takes.rejected_at,
        rejected_takes.reason,

    from rejected_takes
    inner join shelf_events on rejected_takes.shelf_event_id = shelf_events.shelf_event_id
    where shelf_events.action = 'pick'  -- a put-back charged to nobody costs no one
    qualify row_number() over (  -- rejected again on a replay: one case
        partition by shelf_events.shelf_event_id
        order by rejected_takes.rejected_at, rejected_takes.deadletter_id
    ) = 1

),

unattributed as (

    select
        'take:' || takes.shelf_event_id as case_id,
        'unattributed' as kind,
        takes.store_id,
        cast(null as varchar) as visit_id,
        cast(null as varchar) as purchase_id,
        takes.product_id,
        takes.quantity,
        products.price_krw * takes.quantity as at_stake_krw,
        takes.rejected_at as opened_at,  -- the take's own time: the checkout dates a rejected event by it
        [takes.reason] as review_reasons,

    from takes
    left join products on takes.product_id = products.product_id

),

{#- A receipt line a shopper disputes is a case of its own, beside the receipt's flagged case if it has
    one. At stake: the units in question at the price the line charged them (not taken, or the
    difference a wrong quantity makes), or at the catalog price for units the receipt does not charge. #}
disputed as (

    select
        'dispute:' || disputes.dispute_id as case_id,
        'disputed' as kind,
        receipts.store_id,
        receipts.visit_id,
        receipts.purchase_id,
        disputes.product_id,
        disputes.quantity,
        case disputes.kind
            when 'not_taken' then least(disputes.quantity, lines.quantity) * lines.unit_price_krw
            when 'wrong_quantity' then abs(lines.quantity - disputes.quantity) * lines.unit_price_krw
            else disputes.quantity * products.price_krw
        end as at_stake_krw,
        disputes.filed_at as opened_at,
        [
            'disputed by the shopper: ' || disputes.product_id || ' x' || disputes.quantity || ' '
            || case disputes.kind
                when 'not_taken' then 'not taken'
                when 'missing' then 'taken, missing from the receipt'
                else 'taken in all, charged x' || coalesce(cast(lines.quantity as varchar), '?')
            end
            || case when disputes.note <> '' then ': "' || disputes.note || '"' else '' end
        ] as review_reasons,

    from disputes
    inner join purchases  -- the shopper's own receipt: a dispute naming another's opens no case
        as receipts
        on disputes.purchase_id = receipts.purchase_id and disputes.shopper_id = receipts.shopper_id
    left join purchase_lines
        as lines
        on disputes.purchase_id = lines.purchase_id and disputes.product_id = lines.product_id
    left join products on disputes.product_id = products.product_id

),

cases as (

    select * from flagged
    union all by name
    select * from unattributed
    union all by name
    select * from disputed

),

decisions as (

    select
        case_id,
        min(decided_at) as decided_at,

    from adjustments
    group by case_id

),

final as (

    select
        cases.case_id,
        cases.kind,
        cases.store_id,
        cases.visit_id,
        cases.purchase_id,
        cases.product_id,
        cases.quantity,
        cases.at_stake_krw,
        cases.opened_at,
        case when decisions.case_id is null then 'open' else 'decided' end as state,
        decisions.decided_at,
        cases.review_reasons,

    from cases
    left join decisions on cases.case_id = decisions.case_id

)

select * from final
