with

source as (

    select * from {{ lake_source('camera_tracks') }}

),

renamed as (

    select
        event_id as track_sample_id,
        store_id,
        camera_id,
        track_id,
        x_m,
        y_m,
        zone_id,
        age_band,
        gender,
        demographic_confidence,
        ts as sampled_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by track_sample_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
