{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='lake_date',
        tags=['daily'],
    )
}}

{#- Person-seconds per floor cell and local hour: each track sample stands for the time until the
    track's next sample (at most max_track_gap_s). Kept per lake date, so a day can be rebuilt alone. #}
with

track_samples as (

    select * from {{ ref('stg_camera_tracks') }}
    where {{ in_partition_window() }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

timed as (

    select
        store_id,
        track_id,
        x_m,
        y_m,
        sampled_at,
        lake_date,
        least(
            coalesce(
                epoch(lead(sampled_at) over (partition by store_id, track_id order by sampled_at))
                - epoch(sampled_at),
                0
            ),
            {{ var('max_track_gap_s') }}
        ) as seconds,

    from track_samples

),

located as (

    select
        timed.lake_date,
        timed.store_id,
        cast(timezone(stores.timezone, timed.sampled_at) as date) as local_date,
        hour(timezone(stores.timezone, timed.sampled_at)) as local_hour,
        cast(floor(timed.x_m / {{ var('floor_cell_m') }}) as integer) as cell_x,
        cast(floor(timed.y_m / {{ var('floor_cell_m') }}) as integer) as cell_y,
        timed.track_id,
        timed.seconds,

    from timed
    inner join stores on timed.store_id = stores.store_id

),

final as (

    select
        lake_date,
        store_id,
        local_date,
        local_hour,
        cell_x,
        cell_y,
        sum(seconds) as person_seconds,
        count(*) as samples,
        count(distinct track_id) as tracks,

    from located
    group by lake_date, store_id, local_date, local_hour, cell_x, cell_y

)

select * from final
