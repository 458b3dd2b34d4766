{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='lake_date',
        tags=['daily'],
    )
}}

with

segments as (

    select * from {{ ref('stg_dwell_segments') }}
    where {{ in_partition_window() }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

final as (

    select
        segments.dwell_segment_id,
        segments.visit_id,
        segments.store_id,
        segments.shopper_id,
        segments.zone_id,
        segments.entered_at,
        segments.exited_at,
        cast(timezone(stores.timezone, segments.entered_at) as date) as local_date,
        hour(timezone(stores.timezone, segments.entered_at)) as local_hour,
        segments.dwell_s,
        segments.is_stop,
        segments.lake_date,

    from segments
    inner join stores on segments.store_id = stores.store_id

)

select * from final
