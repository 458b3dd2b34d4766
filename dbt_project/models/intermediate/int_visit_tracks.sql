with

visits as (

    select * from {{ ref('int_visits') }}

),

tracks as (

    select
        store_id,
        unnest(track_ids) as track_id,
        visit_id,
        entered_at,

    from visits

),

{#- A tracker id swapped between two shoppers can end up in both visits: the earlier visit keeps it. #}
first_claim as (

    select
        store_id,
        track_id,
        visit_id,

    from tracks
    qualify row_number() over (partition by store_id, track_id order by entered_at, visit_id) = 1

)

select * from first_claim
