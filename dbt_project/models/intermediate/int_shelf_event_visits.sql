{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='lake_date',
        tags=['daily'],
    )
}}

{#- Who took or put back: the tracked person nearest the plate's reach point around the event
    (from attribution_before_s before the weight settled to attribution_after_s after), if anyone
    stood within attribution_reach_m; their track names the visit. #}
with

shelf_events as (

    select * from {{ ref('stg_shelf_events') }}
    where {{ in_partition_window() }}

),

track_samples as (

    select * from {{ ref('stg_camera_tracks') }}
    where {{ in_partition_window() }}

),

plates as (

    select * from {{ ref('stg_plates') }}

),

visit_tracks as (

    select * from {{ ref('int_visit_tracks') }}

),

event_seconds as (

    select
        shelf_events.shelf_event_id,
        shelf_events.store_id,
        shelf_events.detected_at,
        plates.reach_x_m,
        plates.reach_y_m,
        unnest(generate_series(
            cast(floor(epoch(shelf_events.detected_at)) as bigint) - {{ var('attribution_before_s') }},
            cast(floor(epoch(shelf_events.detected_at)) as bigint) + {{ var('attribution_after_s') }}
        )) as second,

    from shelf_events
    inner join plates on shelf_events.plate_id = plates.plate_id

),

sample_seconds as (

    select
        store_id,
        track_id,
        x_m,
        y_m,
        cast(floor(epoch(sampled_at)) as bigint) as second,

    from track_samples

),

candidates as (

    select
        event_seconds.shelf_event_id,
        sample_seconds.track_id,
        min(sqrt(
            pow(sample_seconds.x_m - event_seconds.reach_x_m, 2)
            + pow(sample_seconds.y_m - event_seconds.reach_y_m, 2)
        )) as distance_m,

    from event_seconds
    inner join sample_seconds
        on event_seconds.store_id = sample_seconds.store_id
        and event_seconds.second = sample_seconds.second
    group by event_seconds.shelf_event_id, sample_seconds.track_id

),

nearest as (

    select * from candidates
    where distance_m <= {{ var('attribution_reach_m') }}
    qualify row_number() over (partition by shelf_event_id order by distance_m, track_id) = 1

),

final as (

    select
        shelf_events.shelf_event_id,
        shelf_events.store_id,
        shelf_events.plate_id,
        shelf_events.product_id,
        shelf_events.action,
        shelf_events.quantity,
        shelf_events.detected_at,
        nearest.track_id,
        visit_tracks.visit_id,
        nearest.distance_m,
        shelf_events.lake_date,

    from shelf_events
    left join nearest on shelf_events.shelf_event_id = nearest.shelf_event_id
    left join visit_tracks
        on shelf_events.store_id = visit_tracks.store_id
        and nearest.track_id = visit_tracks.track_id

)

select * from final
