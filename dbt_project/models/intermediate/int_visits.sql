with

visit_events as (

    select * from {{ ref('stg_visit_events') }}

),

visits as (

    select
        visit_id,
        min(store_id) as store_id,
        min(shopper_id) as shopper_id,
        max(group_size) as group_size,
        min(entered_at) as entered_at,
        max(exited_at) as exited_at,
        bool_or(status = 'closed') as is_closed,
        list_sort(list_distinct(flatten(list(track_ids)))) as track_ids,
        -- the surest profile of the visit's events (the closed one knows the entrance camera's guess)
        arg_max(age_band, coalesce(demographic_confidence, 0)) as age_band,
        arg_max(gender, coalesce(demographic_confidence, 0)) as gender,
        arg_max(demographic_source, coalesce(demographic_confidence, 0)) as demographic_source,
        max(demographic_confidence) as demographic_confidence,

    from visit_events
    group by visit_id

)

select * from visits
